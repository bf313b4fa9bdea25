/**
 * Retained messages kept in a tree of topic levels, so a subscription finds the messages it
 * matches by walking only the branches its filter names. (A flat map tested against every filter
 * makes each SUBSCRIBE cost one test per retained topic, and a fleet that connects at once
 * quadratic: 20,000 clusters, each with its retained state, mean 400 million tests.)
 *
 * Matching follows MQTT 3.1.1 §4.7: `+` matches exactly one level (possibly empty), `#` the parent
 * level and everything below it, and filters starting with a wildcard do not match topics
 * starting with `$`.
 */
export class RetainedTree<T> {
  private readonly root = new Level<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  set(topic: string, value: T): void {
    let node = this.root;
    for (const word of topic.split('/')) {
      let child = node.children.get(word);
      if (!child) {
        child = new Level<T>();
        node.children.set(word, child);
      }
      node = child;
    }
    if (node.value === undefined) this.count += 1;
    node.value = value;
  }

  delete(topic: string): void {
    const words = topic.split('/');
    const path: Level<T>[] = [this.root];
    for (const word of words) {
      const child = path.at(-1)?.children.get(word);
      if (!child) return;
      path.push(child);
    }
    const leaf = path.at(-1) as Level<T>;
    if (leaf.value === undefined) return;
    leaf.value = undefined;
    this.count -= 1;
    // Prune the branch back to the nearest level still in use.
    for (let i = words.length; i > 0; i--) {
      const node = path[i] as Level<T>;
      if (node.value !== undefined || node.children.size > 0) break;
      (path[i - 1] as Level<T>).children.delete(words[i - 1] as string);
    }
  }

  /** Values whose topics the filter matches, each once. */
  *match(filter: string): Generator<T> {
    yield* matchFrom(this.root, filter.split('/'), 0);
  }
}

class Level<T> {
  readonly children = new Map<string, Level<T>>();
  value: T | undefined = undefined;
}

function* matchFrom<T>(node: Level<T>, words: string[], depth: number): Generator<T> {
  if (depth === words.length) {
    if (node.value !== undefined) yield node.value;
    return;
  }
  const word = words[depth] as string;
  if (word === '#') {
    if (node.value !== undefined && depth > 0) yield node.value;
    for (const [name, child] of node.children)
      if (depth > 0 || !name.startsWith('$')) yield* everything(child);
    return;
  }
  if (word === '+') {
    for (const [name, child] of node.children)
      if (depth > 0 || !name.startsWith('$')) yield* matchFrom(child, words, depth + 1);
    return;
  }
  const child = node.children.get(word);
  if (child) yield* matchFrom(child, words, depth + 1);
}

function* everything<T>(node: Level<T>): Generator<T> {
  if (node.value !== undefined) yield node.value;
  for (const child of node.children.values()) yield* everything(child);
}

import { describe, expect, it } from 'vitest';
import { RetainedTree } from '../../broker/retained-tree.js';

const sorted = (values: Iterable<string>) => [...values].sort();

/** MQTT 3.1.1 §4.7 matching of one topic, level by level: the oracle. */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

describe('retained messages by topic level', () => {
  const tree = new RetainedTree<string>();
  for (const topic of [
    'sc/v1/hd-c01/state',
    'sc/v1/hd-c01/config',
    'sc/v1/hd-c02/state',
    'sc/v1/hd-c02',
    'sc/v1//state',
    'sport',
    'sport/tennis/player1',
    '$SYS/broker/uptime',
  ])
    tree.set(topic, topic);

  it('matches exact topics, + for one level and # for the parent and everything below', () => {
    expect(sorted(tree.match('sc/v1/hd-c01/state'))).toEqual(['sc/v1/hd-c01/state']);
    expect(sorted(tree.match('sc/v1/+/state'))).toEqual([
      'sc/v1//state',
      'sc/v1/hd-c01/state',
      'sc/v1/hd-c02/state',
    ]);
    expect(sorted(tree.match('sc/v1/hd-c02/#'))).toEqual(['sc/v1/hd-c02', 'sc/v1/hd-c02/state']);
    expect(sorted(tree.match('sport/#'))).toEqual(['sport', 'sport/tennis/player1']);
    expect(sorted(tree.match('sport/+'))).toEqual([]);
    expect(sorted(tree.match('sc/v1/hd-c03/state'))).toEqual([]);
  });

  it('keeps $ topics out of filters that start with a wildcard', () => {
    expect(sorted(tree.match('#'))).not.toContain('$SYS/broker/uptime');
    expect(sorted(tree.match('+/broker/uptime'))).toEqual([]);
    expect(sorted(tree.match('$SYS/#'))).toEqual(['$SYS/broker/uptime']);
  });

  it('forgets a deleted topic and keeps its neighbours', () => {
    const t = new RetainedTree<string>();
    t.set('a/b/c', 'abc');
    t.set('a/b', 'ab');
    t.set('a/b/c', 'abc2');
    expect(t.size).toBe(2);
    t.delete('a/b/c');
    t.delete('a/b/c/d');
    t.delete('x');
    expect(t.size).toBe(1);
    expect(sorted(t.match('a/#'))).toEqual(['ab']);
    t.delete('a/b');
    expect(t.size).toBe(0);
    expect(sorted(t.match('#'))).toEqual([]);
  });

  it('answers every filter as a level-by-level test of each topic does', () => {
    // Random topics and filters over a small alphabet, so that levels collide often.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const words = ['a', 'b', 'c', ''];
    const topicOf = () => Array.from({ length: 1 + random(4) }, () => words[random(words.length)]).join('/');
    const filterOf = () => {
      const levels = Array.from({ length: 1 + random(4) }, () => [...words, '+'][random(words.length + 1)]);
      if (random(3) === 0) levels.push('#');
      return levels.join('/');
    };
    const t = new RetainedTree<string>();
    const topics = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const topic = topicOf();
      if (random(4) === 0) {
        t.delete(topic);
        topics.delete(topic);
      } else {
        t.set(topic, topic);
        topics.add(topic);
      }
    }
    expect(t.size).toBe(topics.size);
    for (let i = 0; i < 500; i++) {
      const filter = filterOf();
      expect(sorted(t.match(filter)), filter).toEqual(
        sorted([...topics].filter((topic) => matches(filter, topic))),
      );
    }
  });
});

import type { Content } from '../api/types';
import type { ContentWords } from '../content-words';
import { allowed, useSession } from '../session';
import { ContentListen } from './content-listen';

/**
 * What a bulletin from the province plays: heard in full by those who may listen to the library
 * (operators, approvers, technicians); read by viewers, who may not fetch its audio.
 */
export function BulletinContent({ content, words }: { content: Content; words: ContentWords }) {
  const { roles } = useSession().me;
  if (allowed(roles, ['operator', 'approver', 'technician']))
    return <ContentListen content={content} words={words} />;
  return content.kind === 'tts' ? (
    <blockquote data-testid="listen-text">{content.text}</blockquote>
  ) : (
    <p data-testid="listen-content" data-kind={content.kind}>
      {words.content(content)}
    </p>
  );
}

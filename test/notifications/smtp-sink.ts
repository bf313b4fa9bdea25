import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message as the SMTP server received it, with its subject and text decoded. */
export interface ReceivedMail {
  from: string | null;
  to: string[];
  user: string | null;
  subject: string;
  text: string;
  raw: string;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`); adjacent words join. */
function decodeWords(value: string): string {
  const bytes: Buffer[] = [];
  let rest = value.replace(/\?=\s+=\?/g, '?==?');
  let out = '';
  const word = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/;
  for (;;) {
    const match = word.exec(rest);
    if (!match) break;
    out += flush(bytes) + rest.slice(0, match.index);
    const [, , encoding, data = ''] = match;
    bytes.push(
      encoding?.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64')
        : quotedPrintable(data.replace(/_/g, ' '), false),
    );
    rest = rest.slice(match.index + match[0].length);
  }
  return out + flush(bytes) + rest;
}

function flush(bytes: Buffer[]): string {
  const text = Buffer.concat(bytes).toString('utf8');
  bytes.length = 0;
  return text;
}

function quotedPrintable(text: string, soft = true): Buffer {
  const unfolded = soft ? text.replace(/=\r?\n/g, '') : text;
  const out: number[] = [];
  for (let i = 0; i < unfolded.length; i++) {
    const hex = unfolded.slice(i + 1, i + 3);
    if (unfolded[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      out.push(...Buffer.from(unfolded[i] as string, 'utf8'));
    }
  }
  return Buffer.from(out);
}

/** A single-part text message as nodemailer writes one: headers, then a QP, base64 or plain body. */
export function parseMail(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  const text =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : encoding === 'quoted-printable'
        ? quotedPrintable(body).toString('utf8')
        : body;
  return { subject: decodeWords(header('Subject')), text: text.replace(/\r\n/g, '\n') };
}

/**
 * A real SMTP server (the `smtp-server` package) on an ephemeral loopback port, keeping what it
 * receives. It asks for AUTH with `user`/`pass` (over plain SMTP: a test on loopback) and refuses
 * every recipient at `refuse@…` with 550, as a server refuses an unknown mailbox.
 */
export async function startSmtpSink(credentials: { user: string; pass: string }): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass)
        callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('refuse@')) {
        const error = new Error('Mailbox unavailable') as Error & { responseCode: number };
        error.responseCode = 550;
        callback(error);
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : null,
          ...parseMail(raw),
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

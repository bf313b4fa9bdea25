import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Severity } from '../../../contracts/alarms';
import type {
  Contact,
  NoticeKind,
  Notification,
  NotificationStatus,
  NotifyChannel,
  Rule,
  Settings,
} from '../../../contracts/notifications';
import { api, type Page } from '../api/client';
import { usePlaces } from '../api/places';
import type { Village } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { useRecordEditor, useRecordForm, useSettingsForm } from '../api/use-record-editor';
import { DataTable } from '../components/data-table';
import { ErrorMessage } from '../components/error-message';
import { FormCard, SettingsCard } from '../components/form-card';
import { Pager } from '../components/pager';
import { CommuneToolbar } from '../components/place-select';
import { NewRecordButton, RecordButtons, RemoveDialog } from '../components/record-actions';
import { TechnicalDetail } from '../components/technical-detail';
import { CheckField, CheckList, TextField } from '../components/text-field';
import { useFormat } from '../format';
import { allowed, useSession } from '../session';

// contracts/notifications.ts and alarms.ts, copied: the contracts' modules (zod) are not bundled.
const CHANNELS: readonly NotifyChannel[] = ['email', 'telegram', 'zalo'];
const KINDS: readonly NoticeKind[] = [
  'village-outage',
  'cluster-offline',
  'weak-signal',
  'overheating',
  'low-supply',
  'speaker-fault',
  'rejected-messages',
  'camera-offline',
  'camera-auth-failed',
  'not-delivered',
  'reach-gap',
];
const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
/** The alarm kinds by their alarm page names; the outage and a broadcast's missed villages by their own. */
const kindKey = (kind: NoticeKind) =>
  kind === 'village-outage'
    ? 'alarms.outage'
    : kind === 'reach-gap'
      ? 'notify.reachGap'
      : `alarmKind.${kind}`;
const STATUSES: readonly NotificationStatus[] = ['queued', 'sent', 'failed', 'suppressed'];
const LOG_PAGE = 20;

/**
 * "Thông báo": who is told of alarms and village outages, on which channel, from which severity;
 * the commune's quiet hours and digest; and the log of every message with its outcome and retries.
 * Technicians (and admins) change them; operators and viewers read.
 */
export default function NotificationsPage() {
  const { t } = useTranslation();
  const writes = allowed(useSession().me.roles, ['technician']);
  const { communes, villages, error } = usePlaces();
  const [chosen, setChosen] = useState('');
  const communeId = chosen || communes[0]?.id || '';
  const ownVillages = villages.filter((v) => v.communeId === communeId);
  return (
    <section>
      <h1>{t('notify.title')}</h1>
      <p className="muted">{t('notify.intro')}</p>
      <ErrorMessage error={error} />
      <CommuneToolbar id="notify-commune" communes={communes} value={communeId} onChange={setChosen} />
      {communeId ? (
        <div key={communeId}>
          <Contacts communeId={communeId} villages={ownVillages} writes={writes} />
          <CommuneSettings communeId={communeId} writes={writes} />
          <NotificationLog communeId={communeId} />
        </div>
      ) : null}
    </section>
  );
}

type ContactDraft = {
  name: string;
  email: string;
  telegramChatId: string;
  zaloUserId: string;
  villageHead: boolean;
  villageId: string;
  enabled: boolean;
};

function Contacts({
  communeId,
  villages,
  writes,
}: {
  communeId: string;
  villages: Village[];
  writes: boolean;
}) {
  const { t } = useTranslation();
  const contacts = useFetch<Page<Contact>>('/api/v1/notification-contacts', { communeId, limit: 500 });
  const rules = useFetch<Page<Rule>>('/api/v1/notification-rules', { communeId, limit: 100 });
  const editor = useRecordEditor<Contact>('/api/v1/notification-contacts', () => {
    contacts.reload();
    rules.reload();
  });
  const ruleEditor = useRecordEditor<Rule>('/api/v1/notification-rules', rules.reload);
  const [tested, setTested] = useState<Record<string, string>>({});
  const village = (id: string | null) => villages.find((v) => v.id === id)?.name ?? id ?? '';
  const list = contacts.data?.items ?? [];
  const test = (contact: Contact) => {
    editor.setError(null);
    api<{ results: { channel: NotifyChannel; ok: boolean }[] }>(
      `/api/v1/notification-contacts/${encodeURIComponent(contact.id)}/test`,
      { method: 'POST' },
    )
      .then(({ results }) =>
        setTested((all) => ({
          ...all,
          [contact.id]: results
            .map(
              (r) =>
                `${t(`notify.channel.${r.channel}`)}: ${r.ok ? t('notify.testOk') : t('notify.testFailed')}`,
            )
            .join(' · '),
        })),
      )
      .catch((caught: unknown) => editor.setError(toApiError(caught)));
  };

  return (
    <>
      <h2>{t('notify.contacts')}</h2>
      {writes ? (
        <NewRecordButton editor={editor} label={t('notify.newContact')} testId="contact-new" />
      ) : null}
      {editor.editing ? (
        <ContactForm
          key={editor.editing === 'new' ? 'new' : editor.editing.id}
          communeId={communeId}
          record={editor.editing === 'new' ? null : editor.editing}
          villages={villages}
          onSaved={() => {
            editor.setEditing(null);
            contacts.reload();
          }}
          onCancel={() => editor.setEditing(null)}
        />
      ) : null}
      <DataTable
        error={editor.error ?? contacts.error}
        empty={t('notify.noContacts')}
        testId="contacts"
        rows={contacts.data?.items}
        rowKey={(c) => c.id}
        rowAttributes={(c) => ({
          'data-testid': 'contact-row',
          'data-name': c.name,
          'data-contact-id': c.id,
        })}
        columns={[
          {
            header: t('notify.name'),
            names: true,
            cell: (c) => (
              <>
                {c.name}
                {c.villageHead ? (
                  <div className="muted">{t('notify.headOf', { village: village(c.villageId) })}</div>
                ) : null}
                {c.enabled ? null : <span className="badge">{t('notify.off')}</span>}
              </>
            ),
          },
          {
            header: t('notify.addresses'),
            cell: (c) => (
              <>
                {c.email ? <div>{`${t('notify.channel.email')}: ${c.email}`}</div> : null}
                {c.telegramChatId ? (
                  <div>{`${t('notify.channel.telegram')}: ${c.telegramChatId}`}</div>
                ) : null}
                {c.zaloUserId ? <div>{`${t('notify.channel.zalo')}: ${c.zaloUserId}`}</div> : null}
                {tested[c.id] ? (
                  <div className="muted" data-testid="contact-tested">
                    {tested[c.id]}
                  </div>
                ) : null}
              </>
            ),
          },
          writes && {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (c) => (
              <RecordButtons editor={editor} record={c} testIdPrefix="contact">
                <button type="button" onClick={() => test(c)} data-testid={`contact-test-${c.id}`}>
                  {t('notify.test')}
                </button>
              </RecordButtons>
            ),
          },
        ]}
      />
      <RemoveDialog
        editor={editor}
        title={t('notify.removeContact', { name: editor.removing?.name ?? '' })}
        message={t('notify.removeContactMessage')}
        testId="contact-remove"
      />

      <h2>{t('notify.rules')}</h2>
      <p className="muted">{t('notify.rulesIntro')}</p>
      {writes ? <NewRecordButton editor={ruleEditor} label={t('notify.newRule')} testId="rule-new" /> : null}
      {ruleEditor.editing ? (
        <RuleForm
          key={ruleEditor.editing === 'new' ? 'new' : ruleEditor.editing.id}
          communeId={communeId}
          record={ruleEditor.editing === 'new' ? null : ruleEditor.editing}
          contacts={list}
          onSaved={() => {
            ruleEditor.setEditing(null);
            rules.reload();
          }}
          onCancel={() => ruleEditor.setEditing(null)}
        />
      ) : null}
      <DataTable
        error={ruleEditor.error ?? rules.error}
        empty={t('notify.noRules')}
        testId="rules"
        rows={rules.data?.items}
        rowKey={(r) => r.id}
        rowAttributes={(r) => ({ 'data-testid': 'rule-row', 'data-name': r.name, 'data-rule-id': r.id })}
        columns={[
          {
            header: t('notify.name'),
            names: true,
            cell: (r) => (
              <>
                {r.name}
                {r.enabled ? null : <span className="badge">{t('notify.off')}</span>}
              </>
            ),
          },
          {
            header: t('notify.what'),
            cell: (r) => (
              <>
                {r.kinds.length === 0 ? t('notify.allKinds') : r.kinds.map((k) => t(kindKey(k))).join(', ')}
                <div className="muted">
                  {t('notify.fromSeverity', { severity: t(`severity.${r.minSeverity}`) })}
                </div>
              </>
            ),
          },
          {
            header: t('notify.who'),
            cell: (r) => (
              <>
                {r.contactIds.map((id) => list.find((c) => c.id === id)?.name ?? id).join(', ')}
                {r.villageHeads ? <div>{t('notify.villageHeads')}</div> : null}
                <div className="muted">{r.channels.map((ch) => t(`notify.channel.${ch}`)).join(', ')}</div>
              </>
            ),
          },
          writes && {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (r) => <RecordButtons editor={ruleEditor} record={r} testIdPrefix="rule" />,
          },
        ]}
      />
      <RemoveDialog
        editor={ruleEditor}
        title={t('notify.removeRule', { name: ruleEditor.removing?.name ?? '' })}
        message={t('notify.removeRuleMessage')}
        testId="rule-remove"
      />
    </>
  );
}

/** What a contact's or a rule's form is given: its record (null for a new one), and what follows saving or cancelling. */
type FormProps<T> = { communeId: string; record: T | null; onSaved: () => void; onCancel: () => void };

function ContactForm({
  communeId,
  record: contact,
  villages,
  onSaved,
  onCancel,
}: FormProps<Contact> & { villages: Village[] }) {
  const { t } = useTranslation();
  const form = useRecordForm<Contact, ContactDraft>({
    collection: '/api/v1/notification-contacts',
    record: contact,
    draftOf: (c) => ({
      name: c?.name ?? '',
      email: c?.email ?? '',
      telegramChatId: c?.telegramChatId ?? '',
      zaloUserId: c?.zaloUserId ?? '',
      villageHead: c?.villageHead ?? false,
      villageId: c?.villageId ?? '',
      enabled: c?.enabled ?? true,
    }),
    bodyOf: (d, before) => ({
      ...(before ? {} : { communeId }),
      name: d.name.trim(),
      email: d.email.trim() || null,
      telegramChatId: d.telegramChatId.trim() || null,
      zaloUserId: d.zaloUserId.trim() || null,
      villageHead: d.villageHead,
      villageId: d.villageId || null,
      enabled: d.enabled,
    }),
    onSaved,
  });
  const { draft, set } = form;
  return (
    <FormCard
      title={contact ? t('notify.editContact') : t('notify.newContact')}
      testId="contact-form"
      onSubmit={form.submit}
      error={form.error}
      busy={form.busy}
      submitLabel={t('common.save')}
      onCancel={onCancel}
    >
      <TextField
        label={t('notify.name')}
        value={draft.name}
        onChange={(name) => set({ name })}
        required
        maxLength={120}
        testId="contact-name"
      />
      <TextField
        label={t('notify.channel.email')}
        type="email"
        value={draft.email}
        onChange={(email) => set({ email })}
        testId="contact-email"
      />
      <TextField
        label={t('notify.telegramId')}
        value={draft.telegramChatId}
        onChange={(telegramChatId) => set({ telegramChatId })}
        pattern="-?[0-9]{1,20}"
        testId="contact-telegram"
      />
      <TextField
        label={t('notify.zaloId')}
        value={draft.zaloUserId}
        onChange={(zaloUserId) => set({ zaloUserId })}
        pattern="[0-9]{1,32}"
        testId="contact-zalo"
      />
      <label>
        {t('alarms.village')}
        <select
          value={draft.villageId}
          onChange={(e) => set({ villageId: e.target.value })}
          data-testid="contact-village"
        >
          <option value="">{t('common.none')}</option>
          {villages.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name}
            </option>
          ))}
        </select>
      </label>
      <CheckField
        label={t('notify.villageHead')}
        checked={draft.villageHead}
        onChange={(villageHead) => set({ villageHead })}
        testId="contact-head"
      />
      <CheckField
        label={t('notify.enabled')}
        checked={draft.enabled}
        onChange={(enabled) => set({ enabled })}
        testId="contact-enabled"
      />
    </FormCard>
  );
}

type RuleDraft = {
  name: string;
  kinds: NoticeKind[];
  minSeverity: Severity;
  contactIds: string[];
  villageHeads: boolean;
  channels: NotifyChannel[];
  enabled: boolean;
};

function RuleForm({
  communeId,
  record: rule,
  contacts,
  onSaved,
  onCancel,
}: FormProps<Rule> & { contacts: Contact[] }) {
  const { t } = useTranslation();
  const form = useRecordForm<Rule, RuleDraft>({
    collection: '/api/v1/notification-rules',
    record: rule,
    draftOf: (r) => ({
      name: r?.name ?? '',
      kinds: r?.kinds ?? [],
      minSeverity: r?.minSeverity ?? 'warning',
      contactIds: r?.contactIds ?? [],
      villageHeads: r?.villageHeads ?? false,
      channels: r?.channels ?? ['email'],
      enabled: r?.enabled ?? true,
    }),
    bodyOf: (d, before) => ({ ...(before ? {} : { communeId }), ...d, name: d.name.trim() }),
    onSaved,
  });
  const { draft, set } = form;
  return (
    <FormCard
      title={rule ? t('notify.editRule') : t('notify.newRule')}
      testId="rule-form"
      onSubmit={form.submit}
      error={form.error}
      busy={form.busy}
      submitLabel={t('common.save')}
      onCancel={onCancel}
    >
      <TextField
        label={t('notify.name')}
        value={draft.name}
        onChange={(name) => set({ name })}
        required
        maxLength={120}
        testId="rule-name"
      />
      <fieldset>
        <legend>{t('notify.kinds')}</legend>
        <CheckList
          options={KINDS.map((id) => ({ id, name: t(kindKey(id)) }))}
          value={draft.kinds}
          onChange={(kinds) => set({ kinds })}
          testId="rule-kind"
        />
      </fieldset>
      <label>
        {t('notify.minSeverity')}
        <select
          value={draft.minSeverity}
          onChange={(e) => set({ minSeverity: e.target.value as Severity })}
          data-testid="rule-severity"
        >
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {t(`severity.${s}`)}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>{t('notify.who')}</legend>
        <CheckList
          options={contacts}
          value={draft.contactIds}
          onChange={(contactIds) => set({ contactIds })}
          testId="rule-contact"
        >
          <CheckField
            plain
            label={t('notify.villageHeads')}
            checked={draft.villageHeads}
            onChange={(villageHeads) => set({ villageHeads })}
            testId="rule-heads"
          />
        </CheckList>
      </fieldset>
      <fieldset>
        <legend>{t('notify.channels')}</legend>
        <CheckList
          options={CHANNELS.map((id) => ({ id, name: t(`notify.channel.${id}`) }))}
          value={draft.channels}
          onChange={(channels) => set({ channels })}
          testId="rule-channel"
        />
      </fieldset>
      <CheckField
        label={t('notify.enabled')}
        checked={draft.enabled}
        onChange={(enabled) => set({ enabled })}
        testId="rule-enabled"
      />
    </FormCard>
  );
}

type SettingsDraft = { quiet: boolean; start: string; end: string; bypass: boolean; digest: string };

function CommuneSettings({ communeId, writes }: { communeId: string; writes: boolean }) {
  const { t } = useTranslation();
  const form = useSettingsForm<Settings, SettingsDraft>(
    `/api/v1/notification-settings/${encodeURIComponent(communeId)}`,
    (data) => ({
      quiet: data.quietHours !== null,
      start: data.quietHours?.start ?? '22:00',
      end: data.quietHours?.end ?? '06:00',
      bypass: data.criticalBypassesQuiet,
      digest: String(data.digestWindowMin),
    }),
    (draft) => ({
      quietHours: draft.quiet ? { start: draft.start, end: draft.end } : null,
      criticalBypassesQuiet: draft.bypass,
      digestWindowMin: Number(draft.digest),
    }),
  );
  const setDraft = form.setDraft;
  return (
    <SettingsCard
      title={t('notify.quietAndDigest')}
      testId="notify-settings"
      onSubmit={form.submit}
      error={form.error}
      busy={form.busy}
      writes={writes}
      draft={form.draft}
    >
      {(draft) => (
        <>
          <CheckField
            label={t('notify.quiet')}
            checked={draft.quiet}
            onChange={(quiet) => setDraft({ ...draft, quiet })}
            testId="notify-quiet"
          />
          {draft.quiet ? (
            <div className="grid">
              <TextField
                label={t('notify.quietFrom')}
                type="time"
                required
                value={draft.start}
                onChange={(start) => setDraft({ ...draft, start })}
                testId="notify-quiet-start"
              />
              <TextField
                label={t('notify.quietTo')}
                type="time"
                required
                value={draft.end}
                onChange={(end) => setDraft({ ...draft, end })}
                testId="notify-quiet-end"
              />
            </div>
          ) : null}
          <CheckField
            label={t('notify.bypass')}
            checked={draft.bypass}
            onChange={(bypass) => setDraft({ ...draft, bypass })}
            testId="notify-bypass"
          />
          <TextField
            label={t('notify.digest')}
            type="number"
            min={1}
            max={1440}
            required
            value={draft.digest}
            onChange={(digest) => setDraft({ ...draft, digest })}
            testId="notify-digest"
          >
            <span className="muted">{t('notify.digestHint')}</span>
          </TextField>
        </>
      )}
    </SettingsCard>
  );
}

function NotificationLog({ communeId }: { communeId: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const log = useFetch<Page<Notification>>('/api/v1/notifications', {
    communeId,
    status,
    limit: LOG_PAGE,
    offset,
  });
  const reason = (n: Notification) =>
    n.reason === null ? null : n.status === 'failed' ? (
      <TechnicalDetail text={n.reason} />
    ) : (
      <div className="muted">{t(`notify.why.${n.reason}`, { defaultValue: n.reason })}</div>
    );
  return (
    <>
      <h2>{t('notify.log')}</h2>
      <div className="toolbar">
        <label>
          {t('notify.status')}
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value);
              setOffset(0);
            }}
            data-testid="notify-log-status"
          >
            <option value="">{t('notify.allStatuses')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`notify.statusName.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={log.reload}>
          {t('notify.refresh')}
        </button>
      </div>
      <DataTable
        error={log.error}
        empty={t('notify.noLog')}
        testId="notify-log"
        rows={log.data?.items}
        rowKey={(n) => n.id}
        rowAttributes={(n) => ({
          'data-testid': 'notify-log-row',
          'data-status': n.status,
          'data-attempts': String(n.attempts),
        })}
        columns={[
          { header: t('notify.when'), cell: (n) => format.dateTime(n.sentAt ?? n.createdAt) },
          {
            header: t('notify.message'),
            names: true,
            cell: (n) => (
              <>
                {n.title}
                {n.kind === 'digest' ? (
                  <div className="muted">{t('notify.digestOf', { count: n.items })}</div>
                ) : null}
              </>
            ),
          },
          {
            header: t('notify.to'),
            cell: (n) => `${n.contactName ?? t('common.none')} · ${t(`notify.channel.${n.channel}`)}`,
          },
          {
            header: t('notify.status'),
            cell: (n) => (
              <>
                <span
                  className={n.status === 'sent' ? 'badge ok' : n.status === 'failed' ? 'badge bad' : 'badge'}
                >
                  {t(`notify.statusName.${n.status}`)}
                </span>
                {reason(n)}
                {n.attempts > 1 ? (
                  <div data-testid="notify-retries">{t('notify.retries', { count: n.attempts - 1 })}</div>
                ) : null}
                {n.lastError && n.status !== 'failed' ? <TechnicalDetail text={n.lastError} /> : null}
              </>
            ),
          },
        ]}
      />
      <Pager page={log.data} onOffset={setOffset} />
    </>
  );
}

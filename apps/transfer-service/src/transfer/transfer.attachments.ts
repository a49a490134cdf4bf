import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Identity } from '@lianfang/auth';
import { assertSqlIdentifier, type SqlClient } from '@lianfang/eventsourcing';
import { InputError } from '@lianfang/graph';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import {
  ATTACHMENT_KINDS,
  ATTACHMENT_MEDIA_TYPES,
  MAX_ATTACHMENT_BYTES,
  type Attachment,
  type AttachmentKind,
} from './decider';

/** How each accepted format begins: a file whose bytes say otherwise is not what it claims to be. */
const SIGNATURES: Readonly<Record<string, readonly number[]>> = {
  'application/pdf': [0x25, 0x50, 0x44, 0x46], // %PDF
  'application/ofd': [0x50, 0x4b, 0x03, 0x04], // OFD is a ZIP package
  'image/jpeg': [0xff, 0xd8, 0xff],
  'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface Row extends Record<string, unknown> {
  sha256: string;
  size: number | string;
  media_type: string;
  kind: string;
}

const toAttachment = (r: Row): Attachment => ({
  sha256: r.sha256,
  size: Number(r.size),
  mediaType: r.media_type,
  kind: r.kind as AttachmentKind,
});

/**
 * The application's documents (licence copy, method description, contract; Art 22), stored once under
 * their SHA-256 in the service's own table: an application names them by hash, and the hash in the
 * event proves which bytes the bureau saw.
 */
@Injectable()
export class TransferAttachments {
  private readonly sql: SqlClient;
  private readonly table: string;
  private migrated?: Promise<void>;

  constructor(@Inject(PLATFORM) platform: Platform) {
    this.sql = platform.sql;
    this.table = `${assertSqlIdentifier(platform.schema, 'schema name')}.transfer_attachments`;
  }

  private migrate(): Promise<void> {
    return (this.migrated ??= this.sql
      .transaction(async (tx) => {
        // Two processes creating the table at once would race on the catalog.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lianfang.${this.table}`]);
        await tx.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
          sha256 text PRIMARY KEY,
          size integer NOT NULL,
          media_type text NOT NULL,
          kind text NOT NULL,
          content bytea NOT NULL,
          uploaded_by text NOT NULL,
          uploaded_at timestamptz NOT NULL
        )`);
      })
      .catch((e: unknown) => {
        this.migrated = undefined;
        throw e;
      }));
  }

  /**
   * Checks and stores a document; the same bytes again give the same record (content-addressed). The
   * same bytes under another kind are refused: one document plays one part in the files.
   */
  async upload(
    identity: Identity,
    input: { kind: string; mediaType: string; contentBase64: string },
    now: Date,
  ): Promise<Attachment> {
    const kind = input.kind as AttachmentKind;
    if (!ATTACHMENT_KINDS.includes(kind))
      throw new InputError({
        field: 'kind',
        rule: 'attachment.kind',
        messages: {
          zh: '附件类型须为 licence、method 或 contract',
          en: 'an attachment kind is licence, method or contract',
        },
        details: { allowed: ATTACHMENT_KINDS },
      });
    if (!ATTACHMENT_MEDIA_TYPES.includes(input.mediaType))
      throw new InputError({
        field: 'mediaType',
        rule: 'attachment.media-type',
        messages: {
          zh: '附件须为 PDF、OFD、JPEG 或 PNG 文件',
          en: 'an attachment is a PDF, OFD, JPEG or PNG file',
        },
        details: { mediaType: input.mediaType, allowed: ATTACHMENT_MEDIA_TYPES },
      });
    const text = typeof input.contentBase64 === 'string' ? input.contentBase64.replace(/\s+/g, '') : '';
    const tooLarge = () =>
      new InputError({
        field: 'contentBase64',
        rule: 'attachment.size',
        messages: {
          zh: `附件大小须在 1 字节至 ${MAX_ATTACHMENT_BYTES} 字节之间`,
          en: `an attachment is 1 to ${MAX_ATTACHMENT_BYTES} bytes`,
        },
        details: { max: MAX_ATTACHMENT_BYTES },
      });
    if (text.length > Math.ceil(MAX_ATTACHMENT_BYTES / 3) * 4) throw tooLarge();
    // Checked before decoding: Buffer.from skips what is not base64 instead of refusing it.
    if (!BASE64.test(text))
      throw new InputError({
        field: 'contentBase64',
        rule: 'attachment.base64',
        messages: { zh: '附件内容须为 Base64 编码', en: 'the content is base64-encoded' },
      });
    const content = Buffer.from(text, 'base64');
    if (content.length < 1 || content.length > MAX_ATTACHMENT_BYTES) throw tooLarge();
    const signature = SIGNATURES[input.mediaType] ?? [];
    if (!signature.every((byte, i) => content[i] === byte))
      throw new InputError({
        field: 'contentBase64',
        rule: 'attachment.content-type',
        messages: {
          zh: `文件内容不是声明的类型 ${input.mediaType}`,
          en: `the content is not a ${input.mediaType} file`,
        },
        details: { mediaType: input.mediaType },
      });
    const sha256 = createHash('sha256').update(content).digest('hex');
    await this.migrate();
    await this.sql.query(
      `INSERT INTO ${this.table} (sha256, size, media_type, kind, content, uploaded_by, uploaded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO NOTHING`,
      [sha256, content.length, input.mediaType, kind, content, identity.agencyId, now.toISOString()],
    );
    const stored = (await this.find([sha256]))[0];
    if (!stored) throw new Error(`attachment ${sha256} was not stored / 附件未能保存`);
    if (stored.kind !== kind || stored.mediaType !== input.mediaType)
      throw new InputError({
        field: 'kind',
        rule: 'attachment.already-stored',
        messages: {
          zh: `该文件已作为 ${stored.kind}（${stored.mediaType}）保存`,
          en: `this file is already stored as ${stored.kind} (${stored.mediaType})`,
        },
        details: { sha256, kind: stored.kind, mediaType: stored.mediaType },
      });
    return stored;
  }

  /** The stored attachments among `hashes` (lower-case hex), in no particular order. */
  async find(hashes: readonly string[]): Promise<Attachment[]> {
    if (hashes.length === 0) return [];
    await this.migrate();
    const { rows } = await this.sql.query<Row>(
      `SELECT sha256, size, media_type, kind FROM ${this.table} WHERE sha256 = ANY($1::text[])`,
      [[...hashes]],
    );
    return rows.map(toAttachment);
  }

  /**
   * A stored document with its bytes, or null when none is stored under `sha256`. Callers decide who
   * may have it (see `TransferResolver.transferAttachment`): this only reads the store. The bytes are
   * hashed again so that what is handed out is exactly what the application's hash names.
   */
  async content(sha256: string): Promise<(Attachment & { readonly content: Buffer }) | null> {
    await this.migrate();
    const { rows } = await this.sql.query<Row & { content: Buffer }>(
      `SELECT sha256, size, media_type, kind, content FROM ${this.table} WHERE sha256 = $1`,
      [sha256],
    );
    const row = rows[0];
    if (!row) return null;
    const content = Buffer.isBuffer(row.content) ? row.content : Buffer.from(row.content);
    if (createHash('sha256').update(content).digest('hex') !== row.sha256)
      throw new Error(`attachment ${row.sha256} does not match its hash / 附件内容与摘要不符`);
    return { ...toAttachment(row), content };
  }

  /**
   * The attachments an application names, in its order; a hash that was never uploaded is refused
   * naming its place in the list.
   */
  async resolve(hashes: readonly string[], field = 'attachments'): Promise<Attachment[]> {
    const wanted = hashes.map((h) => (typeof h === 'string' ? h.trim().toLowerCase() : ''));
    const found = new Map((await this.find(wanted)).map((a) => [a.sha256, a]));
    return wanted.map((sha256, i) => {
      const attachment = found.get(sha256);
      if (!attachment)
        throw new InputError({
          field: `${field}[${i}]`,
          rule: 'attachment.unknown',
          messages: {
            zh: '未找到该附件：请先上传（uploadTransferAttachment）',
            en: 'no such attachment: upload it first (uploadTransferAttachment)',
          },
          details: { sha256 },
        });
      return attachment;
    });
  }
}

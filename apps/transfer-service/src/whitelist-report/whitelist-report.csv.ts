import type { WhitelistReportType } from './whitelist-report.types';

/** Bilingual column headings: Chinese for the bureaus' files, English for everyone else. */
export const WHITELIST_REPORT_HEADER = [
  '条目编号 Entry ID',
  '移出成员 Exporting member',
  '接收设施 Receiving facility',
  '危险废物代码 Waste codes',
  '白名单数量（千克） Whitelisted (kg)',
  '批准数量（千克） Approved (kg)',
  '批准转移数 Transfers approved',
  '接收数量（千克） Received (kg)',
  '处置数量（千克） Disposed (kg)',
  '联单数 Manifests',
] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
const field = (value: string | number): string => {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** The report as CSV text (UTF-8, CRLF lines, exact decimals as the read model holds them). */
export function whitelistReportCsv(report: WhitelistReportType): string {
  const lines = [
    WHITELIST_REPORT_HEADER.map(field).join(','),
    ...report.rows.map((r) =>
      [
        r.entryId,
        r.exportingMember,
        r.receivingFacilityId,
        r.wasteCodes.join(' '),
        r.whitelistedKg,
        r.approvedKg,
        r.transfers,
        r.receivedKg,
        r.disposedKg,
        r.manifests,
      ]
        .map(field)
        .join(','),
    ),
  ];
  return lines.map((l) => `${l}\r\n`).join('');
}

import type { BilingualText } from '@lianfang/domain-kernel';
import type { AgencyKind, Role } from '../identity';

/** How people name each kind of agency, for refusals and listings. */
export const AGENCY_KIND_NAMES: Readonly<Record<AgencyKind, BilingualText>> = Object.freeze({
  generator: { zh: '产废单位', en: 'generator' },
  carrier: { zh: '运输单位', en: 'carrier' },
  receiver: { zh: '利用处置单位', en: 'receiving facility' },
  'provincial-bureau': { zh: '省级生态环境厅', en: 'provincial environment bureau' },
  'municipal-bureau': { zh: '市级生态环境局', en: 'municipal environment bureau' },
  'finance-office': { zh: '财政部门', en: 'finance office' },
  'enforcement-team': { zh: '执法队伍', en: 'enforcement team' },
  'incident-command': { zh: '应急指挥', en: 'incident command' },
  'regional-secretariat': { zh: '区域协作办公室', en: 'regional secretariat' },
  'transport-department': { zh: '交通运输部门', en: 'transport department' },
  'public-security': { zh: '公安机关', en: 'public security' },
});

/** How people name each role a person can hold for their agency. */
export const ROLE_NAMES: Readonly<Record<Role, BilingualText>> = Object.freeze({
  viewer: { zh: '查阅', en: 'viewer' },
  clerk: { zh: '经办', en: 'clerk' },
  reviewer: { zh: '审核', en: 'reviewer' },
  approver: { zh: '签批', en: 'approver' },
  admin: { zh: '管理员', en: 'admin' },
});

import { ContractRegistry, TRANSFER_CONTRACTS } from '@lianfang/contracts';

/** The transfer context's published language: every outbox message is checked against it before storing. */
export const PUBLISHED = new ContractRegistry(TRANSFER_CONTRACTS);

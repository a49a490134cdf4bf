/**
 * Who is acting: a person (token subject) acting for one agency, in that agency's jurisdiction, with
 * some of that agency's roles. Verified from the user's token at the gateway, forwarded to every
 * subgraph as a gateway-signed token and verified there again.
 */

/** The parties of domain.md, plus the transport departments and public security (Art 26, Art 36). */
export const AGENCY_KINDS = [
  'generator',
  'carrier',
  'receiver',
  'provincial-bureau',
  'municipal-bureau',
  'finance-office',
  'enforcement-team',
  'incident-command',
  'regional-secretariat',
  'transport-department',
  'public-security',
] as const;
export type AgencyKind = (typeof AGENCY_KINDS)[number];

/** Government bodies sit at a level; enterprises (generator, carrier, receiver) have none. */
export const AGENCY_LEVELS = ['national', 'regional', 'provincial', 'municipal', 'enterprise'] as const;
export type AgencyLevel = (typeof AGENCY_LEVELS)[number];

/**
 * What a person may do for their agency. An agency lists the roles its staff can hold; a token names
 * the subset its holder has. `viewer` reads; `clerk` prepares and submits; `reviewer` reviews;
 * `approver` signs decisions for the agency; `admin` manages the agency's own settings.
 */
export const ROLES = ['viewer', 'clerk', 'reviewer', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  /** The person: the token's `sub`. */
  readonly subject: string;
  /** The agency they act for (directory id, e.g. `sc-eeb`). */
  readonly agencyId: string;
  readonly agencyKind: AgencyKind;
  /** GB/T 2260 code of the agency's jurisdiction (`510000` Sichuan, `510100` Chengdu). */
  readonly jurisdiction: string;
  readonly roles: readonly Role[];
}

/** Claims of a user token (issuer-signed, ES256) and of the gateway's forwarded identity token. */
export const IDENTITY_CLAIMS = {
  agencyId: 'agency_id',
  agencyKind: 'agency_kind',
  jurisdiction: 'jurisdiction',
  roles: 'roles',
} as const;

/** HTTP headers between gateway and subgraphs. */
export const IDENTITY_HEADER = 'x-lianfang-identity';
export const CORRELATION_HEADER = 'x-correlation-id';
/** Audience and issuer of the forwarded identity token that subgraphs accept. */
export const FORWARDED_IDENTITY_ISSUER = 'lianfang-gateway';
export const FORWARDED_IDENTITY_AUDIENCE = 'lianfang-subgraph';

/** What every resolver and handler receives about the request (GraphQL context). */
export interface RequestContext {
  /** Absent only for requests that need none (health); resolvers refuse without it. */
  readonly identity?: Identity;
  readonly correlationId: string;
}

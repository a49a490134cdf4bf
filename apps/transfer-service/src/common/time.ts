import { WorkingDayCalendar } from '@lianfang/domain-kernel';

/**
 * The working-day calendar every deadline of the service is counted with (the State Council holiday
 * notices bundled in the kernel). A provider so tests and a later calendar import can replace it.
 */
export const WORKING_DAY_CALENDAR = 'transfer-service.WORKING_DAY_CALENDAR';

/**
 * Business time for what the service does by itself (timers, policies): `() => Date`. Commands from
 * people carry the request's time; tests inject a clock to move through deadlines.
 */
export const CLOCK = 'transfer-service.CLOCK';
export type Clock = () => Date;

export const timeProviders = [
  { provide: WORKING_DAY_CALENDAR, useFactory: () => WorkingDayCalendar.default() },
  { provide: CLOCK, useValue: (() => new Date()) satisfies Clock },
];

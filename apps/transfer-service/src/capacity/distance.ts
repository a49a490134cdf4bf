import type { Coordinates } from '../facility/coordinates';

const EARTH_RADIUS_KM = 6371.0088;
const radians = (degrees: number) => (degrees * Math.PI) / 180;

/**
 * Great-circle distance (haversine) in kilometres between two WGS84 points given as the exact decimal
 * strings the register stores. THE ONLY FLOATING-POINT ARITHMETIC OF THE CAPACITY MECHANISM: it serves
 * to rank candidate facilities by distance and to show that distance rounded to 0.1 km; no quantity,
 * decision or stored value is ever computed with it.
 */
export function distanceKm(from: Coordinates, to: Coordinates): number {
  const lat1 = radians(Number(from.lat));
  const lat2 = radians(Number(to.lat));
  const dLat = lat2 - lat1;
  const dLon = radians(Number(to.lon) - Number(from.lon));
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** For display: kilometres with one decimal ('263.4'). */
export const formatKm = (km: number): string => km.toFixed(1);

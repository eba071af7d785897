// Tree sizes and indexes are JS numbers, safe up to 2^53. Bit operators work on 32 bits only, so the
// bit twiddling of the RFC algorithms is done with arithmetic here.

export const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export const isOdd = (n: number): boolean => n % 2 === 1;

export const half = (n: number): number => Math.floor(n / 2);

export function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = half(x)) if (isOdd(x)) c++;
  return c;
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  let x = n;
  while (x % 2 === 0) x /= 2;
  return x === 1;
}

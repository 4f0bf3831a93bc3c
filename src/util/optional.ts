/** `{ [key]: value }` when `value` is defined, else `{}`: spreads an optional setting under exactOptionalPropertyTypes. */
export const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);

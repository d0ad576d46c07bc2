export * from './result';
export * from './time';
export * from './ids';
export * from './tracking-params';
export * from './email';
export * from './url';
export * from './wire/link';
export * from './wire/events';

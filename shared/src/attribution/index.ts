export * from './channels';
export * from './models';
export * from './days';

// Form logic kept apart from the screens, so it is tested without a webview (forms.test.ts):
// one file per kind of record, and what they share.
export * from './forms/common';
export * from './forms/person';
export * from './forms/testimony';
export * from './forms/case';
export * from './forms/attempt';

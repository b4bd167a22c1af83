// Original file: proto/sessiond/v1/sessiond.proto


export interface WatchResync {
  'epoch'?: (string);
  'namespace'?: (string);
}

export interface WatchResync__Output {
  'epoch': (string);
  'namespace': (string);
}

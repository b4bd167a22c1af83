// Original file: proto/sessiond/v1/sessiond.proto


export interface WatchRequest {
  'ids'?: (string)[];
  'namespace'?: (boolean);
}

export interface WatchRequest__Output {
  'ids': (string)[];
  'namespace': (boolean);
}

// Original file: proto/sessiond/v1/sessiond.proto


export interface FlushResponse {
  'existed'?: (boolean);
}

export interface FlushResponse__Output {
  'existed': (boolean);
}

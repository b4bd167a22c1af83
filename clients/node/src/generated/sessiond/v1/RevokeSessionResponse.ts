// Original file: proto/sessiond/v1/sessiond.proto


export interface RevokeSessionResponse {
  'existed'?: (boolean);
}

export interface RevokeSessionResponse__Output {
  'existed': (boolean);
}

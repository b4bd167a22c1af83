// Original file: proto/sessiond/v1/sessiond.proto


export interface FlushRequest {
  'id'?: (string);
}

export interface FlushRequest__Output {
  'id': (string);
}

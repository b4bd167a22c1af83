// Original file: proto/sessiond/v1/sessiond.proto


export interface RotateRequest {
  'id'?: (string);
}

export interface RotateRequest__Output {
  'id': (string);
}

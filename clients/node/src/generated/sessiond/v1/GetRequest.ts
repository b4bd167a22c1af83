// Original file: proto/sessiond/v1/sessiond.proto


export interface GetRequest {
  'id'?: (string);
  'keys'?: (string)[];
  'no_touch'?: (boolean);
}

export interface GetRequest__Output {
  'id': (string);
  'keys': (string)[];
  'no_touch': (boolean);
}

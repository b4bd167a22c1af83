// Original file: proto/sessiond/v1/sessiond.proto


export interface ListUserSessionsRequest {
  'user_id'?: (string);
  'current_id'?: (string);
}

export interface ListUserSessionsRequest__Output {
  'user_id': (string);
  'current_id': (string);
}

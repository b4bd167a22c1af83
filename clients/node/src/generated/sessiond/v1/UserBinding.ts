// Original file: proto/sessiond/v1/sessiond.proto


export interface UserBinding {
  'user_id'?: (string);
  'user_agent'?: (string);
  'ip'?: (string);
}

export interface UserBinding__Output {
  'user_id': (string);
  'user_agent': (string);
  'ip': (string);
}

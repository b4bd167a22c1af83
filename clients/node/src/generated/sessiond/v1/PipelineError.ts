// Original file: proto/sessiond/v1/sessiond.proto


export interface PipelineError {
  'code'?: (number);
  'message'?: (string);
}

export interface PipelineError__Output {
  'code': (number);
  'message': (string);
}

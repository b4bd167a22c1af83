// Original file: proto/sessiond/v1/sessiond.proto

import type { GetResponse as _sessiond_v1_GetResponse, GetResponse__Output as _sessiond_v1_GetResponse__Output } from '../../sessiond/v1/GetResponse';
import type { SetResponse as _sessiond_v1_SetResponse, SetResponse__Output as _sessiond_v1_SetResponse__Output } from '../../sessiond/v1/SetResponse';
import type { TouchResponse as _sessiond_v1_TouchResponse, TouchResponse__Output as _sessiond_v1_TouchResponse__Output } from '../../sessiond/v1/TouchResponse';
import type { FlushResponse as _sessiond_v1_FlushResponse, FlushResponse__Output as _sessiond_v1_FlushResponse__Output } from '../../sessiond/v1/FlushResponse';
import type { PipelineError as _sessiond_v1_PipelineError, PipelineError__Output as _sessiond_v1_PipelineError__Output } from '../../sessiond/v1/PipelineError';
import type { Long } from '@grpc/proto-loader';

export interface PipelineResponse {
  'tag'?: (number | string | Long);
  'get'?: (_sessiond_v1_GetResponse | null);
  'set'?: (_sessiond_v1_SetResponse | null);
  'touch'?: (_sessiond_v1_TouchResponse | null);
  'flush'?: (_sessiond_v1_FlushResponse | null);
  'error'?: (_sessiond_v1_PipelineError | null);
  'result'?: "get"|"set"|"touch"|"flush"|"error";
}

export interface PipelineResponse__Output {
  'tag': (number);
  'get'?: (_sessiond_v1_GetResponse__Output | null);
  'set'?: (_sessiond_v1_SetResponse__Output | null);
  'touch'?: (_sessiond_v1_TouchResponse__Output | null);
  'flush'?: (_sessiond_v1_FlushResponse__Output | null);
  'error'?: (_sessiond_v1_PipelineError__Output | null);
  'result'?: "get"|"set"|"touch"|"flush"|"error";
}

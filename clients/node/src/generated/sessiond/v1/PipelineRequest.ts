// Original file: proto/sessiond/v1/sessiond.proto

import type { GetRequest as _sessiond_v1_GetRequest, GetRequest__Output as _sessiond_v1_GetRequest__Output } from '../../sessiond/v1/GetRequest';
import type { SetRequest as _sessiond_v1_SetRequest, SetRequest__Output as _sessiond_v1_SetRequest__Output } from '../../sessiond/v1/SetRequest';
import type { TouchRequest as _sessiond_v1_TouchRequest, TouchRequest__Output as _sessiond_v1_TouchRequest__Output } from '../../sessiond/v1/TouchRequest';
import type { FlushRequest as _sessiond_v1_FlushRequest, FlushRequest__Output as _sessiond_v1_FlushRequest__Output } from '../../sessiond/v1/FlushRequest';
import type { Long } from '@grpc/proto-loader';

export interface PipelineRequest {
  'tag'?: (number | string | Long);
  'get'?: (_sessiond_v1_GetRequest | null);
  'set'?: (_sessiond_v1_SetRequest | null);
  'touch'?: (_sessiond_v1_TouchRequest | null);
  'flush'?: (_sessiond_v1_FlushRequest | null);
  'op'?: "get"|"set"|"touch"|"flush";
}

export interface PipelineRequest__Output {
  'tag': (number);
  'get'?: (_sessiond_v1_GetRequest__Output | null);
  'set'?: (_sessiond_v1_SetRequest__Output | null);
  'touch'?: (_sessiond_v1_TouchRequest__Output | null);
  'flush'?: (_sessiond_v1_FlushRequest__Output | null);
  'op'?: "get"|"set"|"touch"|"flush";
}

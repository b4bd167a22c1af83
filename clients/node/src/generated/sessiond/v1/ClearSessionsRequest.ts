// Original file: proto/sessiond/v1/sessiond.proto


export interface ClearSessionsRequest {
}

export interface ClearSessionsRequest__Output {
}

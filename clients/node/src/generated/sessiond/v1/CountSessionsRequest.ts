// Original file: proto/sessiond/v1/sessiond.proto


export interface CountSessionsRequest {
}

export interface CountSessionsRequest__Output {
}

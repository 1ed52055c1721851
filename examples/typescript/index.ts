import * as pulumi from "@pulumi/pulumi";
import * as tavus from "@pulumi/tavus-recording";

// Tavus's issuer and subject for GCS come from Tavus's recording guide (GCS tab).
const config = new pulumi.Config();

const recordings = new tavus.GcsRecordingStorage("tavus-recordings", {
    tavusOidcIssuer: config.require("tavusOidcIssuer"),
    tavusOidcSubject: config.require("tavusOidcSubject"),
    location: "US",
    retentionDays: 365,
});

// The `recording_storage` object apps pass to POST /v2/conversations, under the kit's own output name.
export const recording_storage = recordings.recordingStorage;

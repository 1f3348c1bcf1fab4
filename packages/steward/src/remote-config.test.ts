import { describe, expect, test } from "bun:test";
import { BadRemoteError, MissingCredentialsError, SecretOnCommandLineError } from "./errors.ts";
import { checkCredentialRefs, checkEndpoint, parseRemoteUrl, resolveCredentials } from "./remote-config.ts";

describe("parseRemoteUrl()", () => {
  test("parseRemoteUrl() splits bucket and prefix when given s3://bucket/prefix", () => {
    expect(parseRemoteUrl("s3://my-bucket/ponds/station-1/")).toEqual({ kind: "s3", bucket: "my-bucket", prefix: "ponds/station-1" });
    expect(parseRemoteUrl("s3://my-bucket")).toEqual({ kind: "s3", bucket: "my-bucket", prefix: "" });
  });

  test("parseRemoteUrl() takes an absolute folder when given file:///", () => {
    expect(parseRemoteUrl("file:///mnt/usb/pond/")).toEqual({ kind: "file", path: "/mnt/usb/pond" });
  });

  test("parseRemoteUrl() refuses relative file URLs, other schemes, bad buckets and credentials in the URL", () => {
    expect(() => parseRemoteUrl("file://relative/x")).toThrow(BadRemoteError);
    expect(() => parseRemoteUrl("https://bucket/x")).toThrow(BadRemoteError);
    expect(() => parseRemoteUrl("s3://B")).toThrow(BadRemoteError);
    expect(() => parseRemoteUrl("s3://b/../x")).toThrow(BadRemoteError);
    const err = (() => {
      try {
        parseRemoteUrl("s3://AKIAXXXX:topsecret@bucket/p");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(BadRemoteError);
    expect(err?.message).not.toContain("topsecret");
  });
});

describe("checkEndpoint()", () => {
  test("checkEndpoint() keeps scheme, host and port, and refuses credentials and paths", () => {
    expect(checkEndpoint("http://127.0.0.1:9000/")).toBe("http://127.0.0.1:9000");
    expect(() => checkEndpoint("http://user:pw@host")).toThrow(BadRemoteError);
    expect(() => checkEndpoint("http://host/bucket")).toThrow(BadRemoteError);
    expect(() => checkEndpoint("ftp://host")).toThrow(BadRemoteError);
  });
});

describe("credentials", () => {
  test("checkCredentialRefs() stores ${env:NAME} references and refuses a literal without repeating it", () => {
    expect(checkCredentialRefs({ accessKeyId: "${env:MY_ID}", secretAccessKey: "${env:MY_SECRET}" })).toEqual({
      accessKeyId: "${env:MY_ID}",
      secretAccessKey: "${env:MY_SECRET}",
    });
    let err: SecretOnCommandLineError | undefined;
    try {
      checkCredentialRefs({ secretAccessKey: "wJalrXUtnFEMI/K7MDENG" });
    } catch (e) {
      err = e as SecretOnCommandLineError;
    }
    expect(err).toBeInstanceOf(SecretOnCommandLineError);
    expect(`${err?.message} ${err?.hint} ${JSON.stringify(err?.data)}`).not.toContain("wJalrXUtnFEMI");
    expect(err?.hint).toContain("${env:");
  });

  test("resolveCredentials() reads references from the environment, else the standard AWS variables", () => {
    const env = { MY_ID: "id1", MY_SECRET: "s1", AWS_ACCESS_KEY_ID: "id2", AWS_SECRET_ACCESS_KEY: "s2" };
    expect(resolveCredentials("r", { url: "s3://b", credentials: { accessKeyId: "${env:MY_ID}", secretAccessKey: "${env:MY_SECRET}" } }, env)).toEqual({
      accessKeyId: "id1",
      secretAccessKey: "s1",
    });
    expect(resolveCredentials("r", { url: "s3://b" }, env)).toEqual({ accessKeyId: "id2", secretAccessKey: "s2" });
  });

  test("resolveCredentials() names the unset variable a reference points to", () => {
    expect(() => resolveCredentials("backup", { url: "s3://b", credentials: { secretAccessKey: "${env:NOT_SET_X}" } }, { AWS_ACCESS_KEY_ID: "a" })).toThrow(
      /NOT_SET_X/,
    );
    expect(() => resolveCredentials("backup", { url: "s3://b" }, {})).toThrow(MissingCredentialsError);
  });
});

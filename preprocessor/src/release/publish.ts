import { readFile, stat } from 'node:fs/promises';
import {
  GetAliasCommand,
  GetFunctionCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { zipFolder } from '@marquee/shared';

/** A candidate as a published version: an existing version, or a bundle folder or zip published now. */
export interface PublishedCandidate {
  version: string;
  /** Whether this run published it (false: an existing version, or code equal to the last version's). */
  created: boolean;
  codeSha256: string | undefined;
}

async function versionsOf(lambda: LambdaClient, functionName: string): Promise<string[]> {
  const versions: string[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker }));
    for (const v of page.Versions ?? [])
      if (v.Version !== undefined && v.Version !== '$LATEST') versions.push(v.Version);
    marker = page.NextMarker;
  } while (marker !== undefined);
  return versions;
}

export async function publishCandidate(
  lambda: LambdaClient,
  functionName: string,
  candidate: string,
): Promise<PublishedCandidate> {
  if (/^[0-9]+$/.test(candidate)) {
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: functionName, Qualifier: candidate }));
    return { version: candidate, created: false, codeSha256: got.Configuration?.CodeSha256 };
  }
  const info = await stat(candidate).catch(() => undefined);
  if (info === undefined) throw new ReleaseError(`--candidate: ${candidate} is not a version, a folder or a zip`);
  const zip = info.isDirectory() ? await zipFolder(candidate) : await readFile(candidate);
  const before = await versionsOf(lambda, functionName);
  const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: zip }));
  // CodeSha256 pins what is published to what was just uploaded (another upload in between fails it).
  const published = await lambda.send(
    new PublishVersionCommand({ FunctionName: functionName, CodeSha256: updated.CodeSha256 }),
  );
  const version = published.Version;
  if (version === undefined) throw new ReleaseError('PublishVersion answered no version');
  return { version, created: !before.includes(version), codeSha256: published.CodeSha256 };
}

/** The version the alias serves now; a release refuses to start over one under way (routing set). */
export async function liveVersion(lambda: LambdaClient, functionName: string, alias: string): Promise<string> {
  const got = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
  const weights = Object.entries(got.RoutingConfig?.AdditionalVersionWeights ?? {}).filter(([, w]) => w > 0);
  if (weights.length > 0)
    throw new ReleaseError(
      `alias ${alias} already routes ${weights.map(([v, w]) => `${(w * 100).toFixed(0)} % to version ${v}`).join(', ')}: a release is under way`,
    );
  if (got.FunctionVersion === undefined) throw new ReleaseError(`alias ${alias} names no version`);
  return got.FunctionVersion;
}

/** A release that cannot go on: the CLI prints it and exits 2. */
export class ReleaseError extends Error {}

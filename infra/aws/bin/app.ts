import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Type, readEnv } from '@marquee/shared';
import { settingsFromContext, SettingsError } from '../lib/config.js';
import { MarqueeStack } from '../lib/marquee-stack.js';

// Compiled to infra/aws/dist/bin/app.js: four levels up is the repository root.
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Set by the CDK CLI from the profile in use; absent, the stack stays environment-agnostic. */
const cdkEnv = readEnv(
  Type.Object({ CDK_DEFAULT_ACCOUNT: Type.Optional(Type.String()), CDK_DEFAULT_REGION: Type.Optional(Type.String()) }),
);
const app = new App();
const get = (key: string): unknown => app.node.tryGetContext(key);
const zip = get('generatorZip');
const generatorZip =
  typeof zip === 'string' && zip !== ''
    ? isAbsolute(zip)
      ? zip
      : resolve(process.cwd(), zip)
    : resolve(repoRoot, 'generator/dist/generator.zip');

try {
  const settings = settingsFromContext(get, generatorZip);
  const stackName = typeof get('stackName') === 'string' ? String(get('stackName')) : 'Marquee';
  new MarqueeStack(app, stackName, {
    settings,
    repoRoot,
    // Region and account come from the CLI profile at deploy; synth stays environment-agnostic.
    env: { account: cdkEnv.CDK_DEFAULT_ACCOUNT, region: cdkEnv.CDK_DEFAULT_REGION },
    description: 'Marquee on-demand artwork: buckets, Generator Lambda, Preprocessor on Fargate, CloudFront',
  });
  app.synth();
} catch (err) {
  // A clear line instead of a stack trace for the mistakes an operator makes.
  if (err instanceof SettingsError || (err instanceof Error && err.message.startsWith('marquee:'))) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

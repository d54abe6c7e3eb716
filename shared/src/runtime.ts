/**
 * The Lambda runtime the Generator runs on: the CDK function declares it and the local Lambda
 * endpoint reports it (`AWS_EXECUTION_ENV`, GetFunction's `Runtime`), so both say the same.
 */
export const GENERATOR_RUNTIME = 'nodejs24.x';

import { Duration, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Inputs of {@link RustFunction}. */
export interface RustFunctionProps {
  /** The zip (or directory) `cargo lambda build --output-format zip` made. */
  readonly zip: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly description: string;
  readonly retention: logs.RetentionDays;
  /** @default - AWS managed encryption of the log group */
  readonly encryptionKey?: kms.IKey;
  /** What the function may do besides writing its own logs. */
  readonly statements: (logGroup: logs.ILogGroup) => iam.PolicyStatement[];
}

/**
 * A function built by cargo lambda (a `bootstrap` binary on
 * `provided.al2023`, arm64), with its own log group and a role that may write
 * only there: no `AWSLambdaBasicExecutionRole`, which grants logs on `*`.
 *
 * It adds `<id>Logs`, `<id>Role` and `<id>` to the scope it is given, which
 * keeps the logical ids of the released construct (see TruststoreBucket).
 */
export class RustFunction {
  public readonly function: lambda.Function;
  public readonly logGroup: logs.LogGroup;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RustFunctionProps) {
    this.logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.retention,
      encryptionKey: props.encryptionKey,
    });
    this.role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    for (const statement of props.statements(this.logGroup)) {
      this.role.addToPolicy(statement);
    }
    this.function = new lambda.Function(scope, id, {
      code: lambda.Code.fromAsset(props.zip),
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: props.environment,
      description: props.description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
    });
  }
}

/** The statement that lets a function write to its own log group, and nowhere else. */
export function writeOwnLogs(logGroup: logs.ILogGroup): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'WriteOwnLogs',
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [logGroup.logGroupArn],
  });
}

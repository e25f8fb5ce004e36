import { aws_iam as iam, aws_kms as kms, aws_s3 as s3, custom_resources as cr } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** The empty deny list: version 1, sequence 0, no entries (docs/revoking.md). */
export const EMPTY_DENY_LIST = JSON.stringify({ version: 1, sequence: 0, entries: [] });

/** Inputs of {@link DenyList}. */
export interface DenyListProps {
  /** The truststore bucket, which holds the list too. */
  readonly bucket: s3.IBucket;
  /** Its object key. */
  readonly key: string;
  /** Create the object empty when it does not exist. */
  readonly create: boolean;
  /** @default - S3 managed encryption */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The operator deny list: one object in the truststore bucket. The authorizer
 * reads it; `truststore deny` and `truststore revoke` write it.
 *
 * With `create`, a custom resource writes the empty list with
 * `If-None-Match: *` on create and on every update: S3 refuses the write
 * (412, ignored) when the object exists, so a deploy never replaces a list
 * the operators have edited, and a changed key gets its own empty list.
 * Nothing deletes it with the stack, like the bucket.
 *
 * Like TruststoreBucket, it adds its resources (`DenyListObject`) to the
 * scope it is given.
 */
export class DenyList {
  public readonly bucket: s3.IBucket;
  public readonly key: string;
  /** `s3://bucket/key`, as the authorizer's configuration names it. */
  public readonly uri: string;
  /** The object's ARN: what the authorizer reads and the operators write. */
  public readonly objectArn: string;
  /** The create-if-absent write, with `create`: the authorizer is deployed after it. */
  public readonly creation?: cr.AwsCustomResource;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, props: DenyListProps) {
    this.bucket = props.bucket;
    this.key = props.key;
    this.encryptionKey = props.encryptionKey;
    this.uri = `s3://${props.bucket.bucketName}/${props.key}`;
    this.objectArn = props.bucket.arnForObjects(props.key);

    if (props.create) {
      const createIfAbsent: cr.AwsSdkCall = {
        service: 'S3',
        action: 'putObject',
        parameters: {
          Bucket: props.bucket.bucketName,
          Key: props.key,
          Body: EMPTY_DENY_LIST,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        },
        physicalResourceId: cr.PhysicalResourceId.of(`deny-list:${props.key}`),
        // 412: the object exists, and stays as it is. 409: another
        // conditional write to it is in progress.
        ignoreErrorCodesMatching: 'PreconditionFailed|ConditionalRequestConflict',
      };
      this.creation = new cr.AwsCustomResource(scope, 'DenyListObject', {
        resourceType: 'Custom::DenyListObject',
        onCreate: createIfAbsent,
        onUpdate: createIfAbsent,
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.objectArn] }),
          ...(props.encryptionKey
            ? [new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [props.encryptionKey.keyArn] })]
            : []),
        ]),
        installLatestAwsSdk: false,
      });
    }
  }

  /** What the authorizer needs: `s3:GetObject` on the list, nothing else (a refresh is a conditional GET). */
  public readStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({ sid: 'ReadDenyList', actions: ['s3:GetObject'], resources: [this.objectArn] });
  }

  /**
   * Let `grantee` edit the list (`truststore deny`, `truststore revoke`):
   * `s3:GetObject` and `s3:PutObject` on the object only (conditional writes
   * need nothing more), and the bucket key's `kms:Decrypt` and
   * `kms:GenerateDataKey` if there is one.
   */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:PutObject'],
      resourceArns: [this.objectArn],
    });
    this.encryptionKey?.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
    return grant;
  }
}

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

import {
  CfnResource,
  Duration,
  RemovalPolicy,
  aws_iam as iam,
  aws_kms as kms,
  aws_s3 as s3,
  aws_s3_deployment as s3deploy,
  custom_resources as cr,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Inputs of {@link TruststoreBucket}. */
export interface TruststoreBucketProps {
  /** Local path of the CA bundle. */
  readonly file: string;
  /** Its object key. */
  readonly key: string;
  /** @default - S3 managed encryption */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The versioned truststore bucket, the bundle uploaded into it, and the object
 * version that upload created, which the custom domain pins.
 *
 * Like the other parts of `MtlsApi`, it adds its resources to the scope it is
 * given (`TruststoreBucket`, `TruststoreUpload`, `TruststoreVersion`) rather
 * than to a scope of its own: a new scope would change every logical id, and
 * an upgrade would replace the bucket (test/logical-ids.ts).
 */
export class TruststoreBucket {
  public readonly bucket: s3.Bucket;
  public readonly key: string;
  /** The object version the upload created. */
  public readonly version: string;
  /** `s3://bucket/key`, as the authorizer's configuration names it. */
  public readonly uri: string;

  constructor(scope: Construct, props: TruststoreBucketProps) {
    const key = props.encryptionKey;
    this.key = props.key;
    this.bucket = new s3.Bucket(scope, 'TruststoreBucket', {
      // API Gateway pins the truststore by object version: without versions
      // the domain keeps a stale snapshot and there is nothing to roll back to.
      versioned: true,
      encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: key,
      bucketKeyEnabled: key !== undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'noncurrent-truststores',
          // Keep enough old versions to roll back to, not forever.
          noncurrentVersionExpiration: Duration.days(90),
          noncurrentVersionsToRetain: 10,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const pem = fs.readFileSync(props.file);
    const hash = crypto.createHash('sha256').update(pem).digest('hex');
    const upload = new s3deploy.BucketDeployment(scope, 'TruststoreUpload', {
      sources: [s3deploy.Source.data(this.key, pem.toString('utf8'))],
      destinationBucket: this.bucket,
      // Older versions and anything else in the bucket stay: rollbacks need them.
      prune: false,
      retainOnDelete: true,
      contentType: 'application/x-pem-file',
    });

    // CloudFormation has no S3 object resource that reports a version id, so
    // read it back after the upload. The content hash in the properties makes
    // a changed file an update, which re-reads the new version.
    const version = new cr.AwsCustomResource(scope, 'TruststoreVersion', {
      resourceType: 'Custom::TruststoreVersion',
      onUpdate: {
        service: 'S3',
        action: 'headObject',
        parameters: { Bucket: this.bucket.bucketName, Key: this.key },
        physicalResourceId: cr.PhysicalResourceId.of(`${this.key}@${hash}`),
        outputPaths: ['VersionId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [this.bucket.arnForObjects(this.key)],
        }),
      ]),
      installLatestAwsSdk: false,
    });
    version.node.addDependency(upload);
    (version.node.findChild('Resource').node.defaultChild as CfnResource).addPropertyOverride('TruststoreSha256', hash);
    this.version = version.getResponseField('VersionId');
    this.uri = `s3://${this.bucket.bucketName}/${this.key}`;
  }
}

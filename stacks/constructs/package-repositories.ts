import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IRepository, Repository, TagMutability, TagStatus } from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';

export interface PackageRepositoriesProps {
  /** Repositories to create. @default [] */
  readonly create?: readonly string[];
  /** Existing repositories of this account and region to import (not managed by the stack). @default [] */
  readonly existing?: readonly string[];
  /** Days an untagged image is kept in a created repository. @default 14 */
  readonly untaggedImageExpiryDays?: number;
}

/**
 * The ECR repositories DataKit packages are pushed to. Created ones are immutable-tagged (a version is
 * never overwritten, as the registry requires), scanned on push, expire untagged images, and are
 * retained on stack deletion because they hold the released artifacts.
 */
export class PackageRepositories extends Construct {
  readonly repositories: readonly IRepository[];

  constructor(scope: Construct, id: string, props: PackageRepositoriesProps = {}) {
    super(scope, id);
    const created = (props.create ?? []).map(
      (repositoryName, index) =>
        new Repository(this, `Repository${index}`, {
          repositoryName,
          imageTagMutability: TagMutability.IMMUTABLE,
          imageScanOnPush: true,
          removalPolicy: RemovalPolicy.RETAIN,
          lifecycleRules: [
            {
              description: 'Expire untagged images (superseded pushes); tagged package versions are kept',
              tagStatus: TagStatus.UNTAGGED,
              maxImageAge: Duration.days(props.untaggedImageExpiryDays ?? 14),
            },
          ],
        }),
    );
    const imported = (props.existing ?? []).map((repositoryName, index) =>
      Repository.fromRepositoryName(this, `Existing${index}`, repositoryName),
    );
    // `as IRepository`: see StatefulStack (aws-cdk-lib classes vs `exactOptionalPropertyTypes`).
    this.repositories = [...created, ...imported].map((repository) => repository as IRepository);
  }
}

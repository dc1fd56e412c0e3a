import { Fn, RemovalPolicy } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  type IVpc,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CellNetworkSettings } from '../settings.js';

export interface CellNetworkProps {
  /** The cell, for descriptions. */
  readonly cell: string;
  readonly network: CellNetworkSettings;
  /** Retention of the flow log's log group (a new VPC only). */
  readonly logRetention: RetentionDays;
}

/**
 * Where a cell's tasks run: a VPC of the cell's own (private subnets behind NAT, or public subnets when
 * the cell has no NAT gateway) or subnets of an existing VPC named by id, plus the cell's security group,
 * which admits nothing and lets tasks reach anything (ECR, Secrets Manager, CloudWatch Logs, the Stores).
 *
 * An existing VPC is imported from its ids alone, never looked up: a lookup would tie the synth to an
 * account and region (docs/adr/0011-cell-stacks.md).
 */
export class CellNetwork extends Construct {
  /** The VPC the cluster and the security group belong to. */
  readonly vpc: IVpc;
  /** The subnets tasks run in (`awsvpcConfiguration.subnets`). */
  readonly subnetIds: readonly string[];
  /** The cell's own group: no ingress, all egress. */
  readonly securityGroup: SecurityGroup;
  /** Every group tasks get: the cell's own, then the configured ones of an existing VPC. */
  readonly securityGroupIds: readonly string[];

  constructor(scope: Construct, id: string, props: CellNetworkProps) {
    super(scope, id);
    const network = props.network;
    if (network.kind === 'new') {
      const behindNat = network.natGateways > 0;
      const vpc = new Vpc(this, 'Vpc', {
        maxAzs: network.maxAzs,
        natGateways: network.natGateways,
        subnetConfiguration: behindNat
          ? [
              { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
              { name: 'tasks', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
            ]
          : [{ name: 'tasks', subnetType: SubnetType.PUBLIC, cidrMask: 20 }],
      });
      // Rejected traffic is what a security review asks for (Security Hub EC2.6's default); ALL would
      // also log every byte a Transform pulls through NAT, at a cost that grows with the data.
      vpc.addFlowLog('FlowLog', {
        destination: FlowLogDestination.toCloudWatchLogs(
          new LogGroup(this, 'FlowLogs', {
            retention: props.logRetention,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        ),
        trafficType: FlowLogTrafficType.REJECT,
      });
      // `as IVpc`: see StatefulStack (aws-cdk-lib classes vs `exactOptionalPropertyTypes`).
      this.vpc = vpc as IVpc;
      this.subnetIds = vpc.selectSubnets({
        subnetType: behindNat ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PUBLIC,
      }).subnetIds;
    } else {
      // Only the VPC id is read (by the security group and the cluster); tasks get the subnets by id. The
      // import insists on availability zones, which nothing here uses: one unresolved zone of the region
      // fills the slot (a list token would draw a synth warning about subnet selection, which never happens).
      this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: network.vpcId,
        availabilityZones: [Fn.select(0, Fn.getAzs())],
      });
      this.subnetIds = network.subnetIds;
    }
    this.securityGroup = new SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: `DataKit cell ${props.cell}: Transform tasks (no ingress)`,
      allowAllOutbound: true,
    });
    this.securityGroupIds = [
      this.securityGroup.securityGroupId,
      ...(network.kind === 'existing' ? network.securityGroupIds : []),
    ];
  }
}

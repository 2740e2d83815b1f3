/** The client seam's conformance suite on the single test broker (the 3-node run is in cluster-faults.test.ts). */
import { kafkajsProtocolClient } from '../../src/kafka/client.js'
import { silentLogger } from '../../src/logging/logger.js'
import { createKafka, createTopics } from '../helpers/kafka.js'
import { describeClientConformance } from './client-conformance.js'

const kafka = createKafka('kasper-conformance')

describeClientConformance(
  'kafkajs-protocol on one broker',
  (k, unavailableTimeoutMs) => kafkajsProtocolClient(k, { unavailableTimeoutMs, logger: silentLogger }),
  () => ({ kafka, createTopics: (topics, partitions) => createTopics(kafka, topics, partitions) }),
)

export { consumerGroupId, type ResolvedTopicProcessorOptions, type TopicProcessorOptions } from './options.js'
export { TopicProcessor } from './topic-processor.js'

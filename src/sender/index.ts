export { BatchSender, type ProduceFn } from './sender.js'

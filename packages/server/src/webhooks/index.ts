// Signed webhooks: signing/verification, delivery jobs and the delivery log.
export {
  signWebhook,
  verifyWebhookSignature,
  checkWebhookSignature,
  SIGNATURE_HEADER,
  EVENT_ID_HEADER,
  type SignatureCheck,
  type VerifyOptions,
} from './signature.js';
export {
  WEBHOOK_QUEUE,
  webhookBody,
  enqueueWebhookDelivery,
  redeliverEvent,
  deliverWebhook,
  webhookDeliveryQueue,
  type WebhookBody,
  type WebhookJobPayload,
  type WebhookDeliveryOptions,
  type DeliveryResult,
} from './delivery.js';
export { listDeliveries, type WebhookDelivery } from './deliveries.js';

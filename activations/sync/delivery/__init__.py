"""Delivery shared by every provider: batches cut to the provider's limits,
pacing per API key, retries with backoff, and a bounded-concurrency dispatcher
that hands each batch's outcomes back to the caller (the engine commits them)
as soon as the batch is done. It speaks only the contract types
(``activations.contract.records``); HTTP lives with the providers."""

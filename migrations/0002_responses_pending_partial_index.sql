DROP INDEX `responses_status_idx`;--> statement-breakpoint
CREATE INDEX `responses_pending_idx` ON `responses` (`id`) WHERE status = 'pending';
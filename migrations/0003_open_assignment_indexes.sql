DROP INDEX `assignments_study_status_idx`;--> statement-breakpoint
CREATE INDEX `assignments_open_expiry_idx` ON `assignments` (`study_id`,`expires_at`) WHERE status = 'open';--> statement-breakpoint
CREATE INDEX `assignments_open_pair_idx` ON `assignments` (`study_id`,`prompt_a_id`,`prompt_b_id`) WHERE status = 'open';
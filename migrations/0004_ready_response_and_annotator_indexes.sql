DROP INDEX `assignments_annotator_idx`;--> statement-breakpoint
CREATE INDEX `assignments_annotator_idx` ON `assignments` (`annotator_id`,`study_id`);--> statement-breakpoint
CREATE INDEX `responses_ready_idx` ON `responses` (`prompt_id`,`settings_hash`,`query_id`) WHERE status = 'ready';
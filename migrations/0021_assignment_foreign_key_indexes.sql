CREATE INDEX `assignments_study_idx` ON `assignments` (`study_id`);--> statement-breakpoint
CREATE INDEX `assignments_prompt_a_idx` ON `assignments` (`prompt_a_id`);--> statement-breakpoint
CREATE INDEX `assignments_prompt_b_idx` ON `assignments` (`prompt_b_id`);--> statement-breakpoint
CREATE INDEX `assignments_query_idx` ON `assignments` (`query_id`);
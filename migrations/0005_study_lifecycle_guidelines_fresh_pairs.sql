ALTER TABLE `queries` ADD `active` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `closed_reason` text;--> statement-breakpoint
ALTER TABLE `studies` ADD `close_on_convergence` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `guidelines` text;--> statement-breakpoint
ALTER TABLE `studies` ADD `annotator_goal` integer;--> statement-breakpoint
ALTER TABLE `studies` ADD `reveal_winner` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `assignments_answered_pair_idx` ON `assignments` (`prompt_a_id`,`prompt_b_id`,`query_id`,`annotator_id`) WHERE status = 'answered';--> statement-breakpoint
CREATE INDEX `votes_annotator_idx` ON `votes` (`annotator_id`,`study_id`);
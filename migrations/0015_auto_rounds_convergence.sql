CREATE TABLE `auto_rounds` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`study_id` integer NOT NULL,
	`threshold_votes` integer NOT NULL,
	`decisive_votes` integer NOT NULL,
	`vote_count` integer NOT NULL,
	`leader_prompt_id` integer,
	`leader_since_votes` integer NOT NULL,
	`growth_round_id` integer,
	`count` integer NOT NULL,
	`parents` integer NOT NULL,
	`estimated_cost_usd` real,
	`retired` text NOT NULL,
	`note` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`leader_prompt_id`) REFERENCES `prompts`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`growth_round_id`) REFERENCES `growth_rounds`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `auto_rounds_study_threshold_idx` ON `auto_rounds` (`study_id`,`threshold_votes`);--> statement-breakpoint
ALTER TABLE `engine_snapshots` ADD `recommended_comparisons` integer;--> statement-breakpoint
ALTER TABLE `growth_rounds` ADD `joined_at_votes` integer;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_round_every` integer;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_round_count` integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_round_parents` integer DEFAULT 2 NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_round_stable_votes` integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_round_max_rounds` integer DEFAULT 5 NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_round_max_prompts` integer;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_round_max_cost_usd` real;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_rounds_set_by` text;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_rounds_stopped_at` integer;--> statement-breakpoint
ALTER TABLE `studies` ADD `auto_rounds_stop_reason` text;--> statement-breakpoint
-- Rounds that added prompts before this migration: where they joined, as the votes the engine counted (all but skips)
-- by the time the round was stored. Excluded annotators' votes are counted too (their exclusion is not dated here).
UPDATE `growth_rounds` SET `joined_at_votes` = (
	SELECT count(*) FROM `votes` WHERE `votes`.`study_id` = `growth_rounds`.`study_id` AND `votes`.`choice` <> 'skip' AND `votes`.`created_at` <= `growth_rounds`.`finished_at`
) WHERE `state` = 'succeeded' AND `finished_at` IS NOT NULL AND json_array_length(json_extract(`result`, '$.added')) > 0;

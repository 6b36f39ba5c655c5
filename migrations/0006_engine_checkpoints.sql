CREATE TABLE `engine_checkpoints` (
	`study_id` integer PRIMARY KEY NOT NULL,
	`policy` text NOT NULL,
	`feature_source` text NOT NULL,
	`arm_prompt_ids` text NOT NULL,
	`vote_count` integer NOT NULL,
	`state` blob NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade
);

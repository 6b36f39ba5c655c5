import { z } from "zod";
import { DisplayNameSchema } from "~/auth/display-name";
import { decimalId } from "./strict-fields";

/** The join form of an annotator invite link (and POST /api/session). */
export const JoinFormSchema = z.object({ displayName: DisplayNameSchema });

/** A study id in a URL: plain decimal digits ("0x1", "1e0", "+1" and "01" name no study). */
export const StudyIdParamSchema = decimalId("Study not found");

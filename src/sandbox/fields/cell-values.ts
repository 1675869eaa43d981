/**
 * Shapes of the object-valued cells, as the field model documents them
 * (https://airtable.com/developers/web/api/field-model).
 */

export interface Thumbnail {
  url: string;
  width: number;
  height: number;
}

/** An attachment cell entry (#multipleattachment). `size`, `type` and `thumbnails` appear once the file was
 * fetched ("a moment later" for writes by URL). */
export interface Attachment {
  id: string;
  url: string;
  filename: string;
  size?: number;
  type?: string;
  width?: number;
  height?: number;
  thumbnails?: { small?: Thumbnail; large?: Thumbnail; full?: Thumbnail };
}

/** A collaborator cell (#collaborator): the user's id, email and display name. */
export interface Collaborator {
  id: string;
  email?: string;
  name?: string;
}

/** A barcode cell (#barcode): its text and optionally its symbology. */
export interface Barcode {
  text: string;
  type?: string | null;
}

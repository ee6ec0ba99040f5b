// Package dicomweb is the image store of the product: the DICOMweb services of PS3.18 (STOW-RS,
// QIDO-RS, WADO-RS and WADO-URI) over scopes of studies, with the instances' bytes in the blob
// store and their attributes in an SQL index. The HTTP edge is dicomweb/dicomwebhttp; DICOM
// reading and writing is dicomweb/dcm.
package dicomweb
